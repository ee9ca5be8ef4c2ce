package bench.peer;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.ProcessingContext;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * The headers a dead-letter record carries, named as on the Node side (DLQ_HEADERS in
 * src/streams/handlers.ts): the error code, the reason, the task, and where the input record
 * came from when known. Values are UTF-8 strings.
 */
final class DeadLetters {
    private DeadLetters() {}

    static Headers headers(ProcessingContext ctx, String code, String message) {
        RecordHeaders h = new RecordHeaders();
        add(h, "sa.error.code", code);
        add(h, "sa.error.message", message);
        add(h, "sa.task.id", ctx.taskId().toString());
        RecordMetadata m = ctx.recordMetadata().orElse(null);
        // In a punctuation there is no input record: its metadata is absent or empty.
        if (m != null && m.topic() != null && m.offset() >= 0) {
            add(h, "sa.source.topic", m.topic());
            add(h, "sa.source.partition", Integer.toString(m.partition()));
            add(h, "sa.source.offset", Long.toString(m.offset()));
        }
        return h;
    }

    private static void add(Headers h, String key, String value) {
        h.add(key, value.getBytes(StandardCharsets.UTF_8));
    }
}
