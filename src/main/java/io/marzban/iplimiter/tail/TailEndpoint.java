package io.marzban.iplimiter.tail;

import io.marzban.iplimiter.position.PositionStore;
import java.nio.file.Path;
import java.util.function.Predicate;
import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.support.DefaultEndpoint;

/** The parameters of one followed file, set by Camel from the URI; see {@link TailOptions} for what they do. */
public final class TailEndpoint extends DefaultEndpoint {

    private final String path;
    private StartPosition startPosition = TailOptions.START_POSITION;
    private Predicate<String> writtenSinceStart = TailOptions.WRITTEN_SINCE_START;
    private int maxLineBytes = TailOptions.MAX_LINE_BYTES;
    private int linesPerExchange = TailOptions.LINES_PER_GROUP;
    private long pollDelay = TailOptions.POLL_MILLIS;
    private long readInterval = TailOptions.READ_INTERVAL_MILLIS;
    private long rotationQuietPeriod = TailOptions.ROTATION_QUIET_MILLIS;
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
        TailConsumer consumer = new TailConsumer(this, processor, options());
        configureConsumer(consumer);
        return consumer;
    }

    @Override
    public Producer createProducer() {
        throw new UnsupportedOperationException("tail: can only be read from");
    }

    TailOptions options() {
        return new TailOptions(Path.of(path), startPosition, writtenSinceStart, maxLineBytes, linesPerExchange,
                pollDelay, readInterval, rotationQuietPeriod, rotatedPattern);
    }

    public String getPath() {
        return path;
    }

    public StartPosition getStartPosition() {
        return startPosition;
    }

    public void setStartPosition(StartPosition startPosition) {
        this.startPosition = startPosition;
    }

    public Predicate<String> getWrittenSinceStart() {
        return writtenSinceStart;
    }

    public void setWrittenSinceStart(Predicate<String> writtenSinceStart) {
        this.writtenSinceStart = writtenSinceStart;
    }

    public int getMaxLineBytes() {
        return maxLineBytes;
    }

    public void setMaxLineBytes(int maxLineBytes) {
        this.maxLineBytes = maxLineBytes;
    }

    public int getLinesPerExchange() {
        return linesPerExchange;
    }

    /** The group size: at most this many lines per exchange. */
    public void setLinesPerExchange(int linesPerExchange) {
        this.linesPerExchange = linesPerExchange;
    }

    public long getPollDelay() {
        return pollDelay;
    }

    /** Milliseconds. */
    public void setPollDelay(long pollDelay) {
        this.pollDelay = pollDelay;
    }

    public long getReadInterval() {
        return readInterval;
    }

    /** Milliseconds. */
    public void setReadInterval(long readInterval) {
        this.readInterval = readInterval;
    }

    public long getRotationQuietPeriod() {
        return rotationQuietPeriod;
    }

    /** Milliseconds. */
    public void setRotationQuietPeriod(long rotationQuietPeriod) {
        this.rotationQuietPeriod = rotationQuietPeriod;
    }

    public String getRotatedPattern() {
        return rotatedPattern;
    }

    /** Default {@code <file name>.*} ({@link TailOptions#defaultRotatedPattern}). */
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
