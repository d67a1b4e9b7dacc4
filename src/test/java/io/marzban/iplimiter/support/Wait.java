package io.marzban.iplimiter.support;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polls for a condition. The limit only stops a broken test from hanging; tests do not assert on time. */
public final class Wait {

    private Wait() {
    }

    public static void until(String what, Duration limit, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up waiting for: " + what);
            }
            Thread.sleep(50);
        }
    }
}
