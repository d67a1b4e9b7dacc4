package io.marzban.iplimiter.tail;

import io.marzban.iplimiter.position.PositionStore;
import java.nio.file.Path;
import java.util.function.Predicate;
import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.support.DefaultEndpoint;

/** The options of one followed file; see {@link FileTailer} for what they do. */
public final class TailEndpoint extends DefaultEndpoint {

    private final String path;
    private String startPosition = "end";
    private Predicate<String> writtenSinceStart = line -> false;
    private int maxLineBytes = 65_536;
    private int linesPerExchange = 50;
    private long pollDelay = 1_000;
    private long readInterval = 20;
    private long rotationQuietPeriod = 5_000;
    private String rotatedPattern;
    private PositionStore positionStore;

    TailEndpoint(String uri, TailComponent component, String path) {
        super(uri, component);
        this.path = path;
    }

    @Override
    public Consumer createConsumer(Processor processor) throws Exception {
        if (positionStore == null) {
            throw new IllegalArgumentException("tail:" + path + " needs positionStore=#bean:<name>");
        }
        if (linesPerExchange < 1) {
            throw new IllegalArgumentException("tail linesPerExchange must be at least 1, not " + linesPerExchange);
        }
        if (!"end".equals(startPosition) && !"beginning".equals(startPosition)) {
            throw new IllegalArgumentException("tail startPosition must be end or beginning, not " + startPosition);
        }
        TailConsumer consumer = new TailConsumer(this, processor);
        configureConsumer(consumer);
        return consumer;
    }

    @Override
    public Producer createProducer() {
        throw new UnsupportedOperationException("tail: can only be read from");
    }

    public String getPath() {
        return path;
    }

    public String getStartPosition() {
        return startPosition;
    }

    /** Where to start in a file that has no stored position: {@code end} (default) or {@code beginning}. */
    public void setStartPosition(String startPosition) {
        this.startPosition = startPosition;
    }

    public Predicate<String> getWrittenSinceStart() {
        return writtenSinceStart;
    }

    /**
     * With startPosition {@code end}: tells whether a line was written since the agent started. Such lines at the
     * end of the file are read too, so that what was logged while the agent was starting is not lost.
     */
    public void setWrittenSinceStart(Predicate<String> writtenSinceStart) {
        this.writtenSinceStart = writtenSinceStart;
    }

    public int getMaxLineBytes() {
        return maxLineBytes;
    }

    /** Longer lines are skipped (and counted) without being held in memory. */
    public void setMaxLineBytes(int maxLineBytes) {
        this.maxLineBytes = maxLineBytes;
    }

    public int getLinesPerExchange() {
        return linesPerExchange;
    }

    /** At most this many lines per exchange (fewer when the reader has caught up with the file). */
    public void setLinesPerExchange(int linesPerExchange) {
        this.linesPerExchange = linesPerExchange;
    }

    public long getPollDelay() {
        return pollDelay;
    }

    /** Longest wait, in milliseconds, before looking at a file again when no change was reported for it. */
    public void setPollDelay(long pollDelay) {
        this.pollDelay = pollDelay;
    }

    public long getReadInterval() {
        return readInterval;
    }

    /** Shortest time, in milliseconds, between two reads of a growing file: writes closer together are read together. */
    public void setReadInterval(long readInterval) {
        this.readInterval = readInterval;
    }

    public long getRotationQuietPeriod() {
        return rotationQuietPeriod;
    }

    /** Milliseconds a rotated-away file must stay unchanged before the file written after it is read. */
    public void setRotationQuietPeriod(long rotationQuietPeriod) {
        this.rotationQuietPeriod = rotationQuietPeriod;
    }

    /** Where rotated copies of the file are looked for, as a glob in its directory; default {@code <name>.*}. */
    public String getRotatedPattern() {
        return rotatedPattern != null ? rotatedPattern : Path.of(path).getFileName() + ".*";
    }

    public void setRotatedPattern(String rotatedPattern) {
        this.rotatedPattern = rotatedPattern;
    }

    public PositionStore getPositionStore() {
        return positionStore;
    }

    public void setPositionStore(PositionStore positionStore) {
        this.positionStore = positionStore;
    }
}
