package bench.peer;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Text as the Node side writes it into messages (alert text, dead-letter reasons), so both
 * sides' strings read the same: numbers as JavaScript's String(n) prints the common cases,
 * toFixed, and Date.toISOString.
 */
final class Js {
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private Js() {}

    /** Whole numbers without ".0", others as Java's shortest repr (the same digits as JavaScript for plain magnitudes). */
    static String number(double v) {
        if (Double.isNaN(v)) return "NaN";
        if (Double.isInfinite(v)) return v > 0 ? "Infinity" : "-Infinity";
        if (v == Math.rint(v) && Math.abs(v) < 1e21) return Long.toString((long) v);
        double abs = Math.abs(v);
        if (abs >= 1e-6 && abs < 1e21) return BigDecimal.valueOf(v).toPlainString();
        return Double.toString(v);
    }

    /** Number.prototype.toFixed: the exact binary value rounded half up at {@code digits} places. */
    static String toFixed(double v, int digits) {
        return new BigDecimal(v).setScale(digits, RoundingMode.HALF_UP).toPlainString();
    }

    static String isoTime(long epochMs) {
        return ISO.format(Instant.ofEpochMilli(epochMs));
    }
}
