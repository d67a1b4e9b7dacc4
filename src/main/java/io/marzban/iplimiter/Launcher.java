package io.marzban.iplimiter;

import io.marzban.iplimiter.agent.Agent;
import io.marzban.iplimiter.demo.Demo;
import io.marzban.iplimiter.limiter.Limiter;
import java.util.Arrays;

/**
 * The jar's entry point: {@code limiter} as the first argument runs the central limiter, {@code demo} both halves
 * on this machine; no argument, or {@code agent}, runs the node agent. The remaining arguments go to the one chosen.
 */
public final class Launcher {

    private Launcher() {
    }

    public static void main(String[] args) throws Exception {
        String command = args.length == 0 ? "agent" : args[0];
        String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
        switch (command) {
            case "agent" -> Agent.main(rest);
            case "limiter" -> Limiter.main(rest);
            case "demo" -> Demo.main(rest);
            default -> {
                System.err.println("marzban-ip-limiter-node: unknown command '" + command
                        + "'; expected agent (the default), limiter or demo");
                System.exit(2);
            }
        }
    }
}
