package io.marzban.iplimiter.agent.tail;

import io.marzban.iplimiter.agent.position.PositionStore;
import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.support.DefaultEndpoint;

/** One followed file: its options, and where its positions are kept. */
public final class TailEndpoint extends DefaultEndpoint {

    private final TailOptions options;
    private final PositionStore positions;

    TailEndpoint(String uri, TailComponent component, TailOptions options, PositionStore positions) {
        super(uri, component);
        this.options = options;
        this.positions = positions;
    }

    @Override
    public Consumer createConsumer(Processor processor) throws Exception {
        TailConsumer consumer = new TailConsumer(this, processor, options, positions);
        configureConsumer(consumer);
        return consumer;
    }

    @Override
    public Producer createProducer() {
        throw new UnsupportedOperationException("tail: can only be read from");
    }
}
