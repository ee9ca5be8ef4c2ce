package bench.peer;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A record that cannot be decoded is skipped and counted, with a WARN line carrying the
 * running count (at most one a second, so a bad stream cannot flood stderr). The Node side
 * sends such records to its dead-letter topic instead; the benchmarks never produce them.
 */
public final class SkipUndecodable implements DeserializationExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(SkipUndecodable.class);
    private static final AtomicLong SKIPPED = new AtomicLong();
    private static final AtomicLong LOGGED_AT = new AtomicLong(0);

    @Override
    public void configure(Map<String, ?> configs) {}

    @Override
    public DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        long skipped = SKIPPED.incrementAndGet();
        long now = System.currentTimeMillis();
        long last = LOGGED_AT.get();
        if (now - last >= 1000 && LOGGED_AT.compareAndSet(last, now))
            LOG.warn("skipped an undecodable record at {}-{}@{} ({} skipped so far): {}", record.topic(), record.partition(), record.offset(), skipped,
                    exception.getMessage());
        return DeserializationHandlerResponse.CONTINUE;
    }
}
