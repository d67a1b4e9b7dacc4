package io.marzban.iplimiter.agent;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether Xray masks the client addresses it logs ({@code log.maskAddress}): such lines carry no address, so no
 * limiter can count devices from them. Said loudly once per run in the log, and for as long as the agent runs in
 * {@code /observe/health} and the {@code marzban_xray_masks_addresses} gauge.
 */
public final class AddressMasking {

    private static final Logger LOG = LoggerFactory.getLogger(AddressMasking.class);
    static final String PROBLEM = "Xray masks client addresses (log.maskAddress is set in its \"log\" settings): "
            + "those lines carry no address and are skipped as not_an_ip, so IP limiting cannot work until "
            + "log.maskAddress is removed";

    private final AtomicLong maskedLines = new AtomicLong();

    /** Records {@code lines} more lines whose source Xray masked. */
    void noticed(int lines) {
        if (maskedLines.getAndAdd(lines) == 0) {
            LOG.warn(PROBLEM);
        }
    }

    /** Lines with a masked source since the start. */
    public long maskedLines() {
        return maskedLines.get();
    }

    /** What masking means for the operator, or null while no masked line was seen. */
    public String problem() {
        return maskedLines.get() == 0 ? null : PROBLEM;
    }
}
