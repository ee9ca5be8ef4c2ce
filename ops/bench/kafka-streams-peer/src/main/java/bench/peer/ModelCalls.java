package bench.peer;

import java.util.Arrays;

/**
 * Every model call timed, drained by the harness between phases: a line "stats" on stdin is
 * answered with one JSON line {"calls", "rows", "batchMs"} of the calls since the last
 * answer, as the Node side's ops/bench/app/model-calls.ts answers it.
 */
final class ModelCalls {
    private double[] ms = new double[1024];
    private int calls;
    private long rows;

    synchronized void record(double millis, int n) {
        if (calls == ms.length) ms = Arrays.copyOf(ms, ms.length * 2);
        ms[calls++] = millis;
        rows += n;
    }

    /** The JSON answer, and a fresh start. */
    synchronized String drain() {
        StringBuilder b = new StringBuilder(32 + calls * 8);
        b.append("{\"calls\":").append(calls).append(",\"rows\":").append(rows).append(",\"batchMs\":[");
        for (int i = 0; i < calls; i++) {
            if (i > 0) b.append(',');
            b.append(Math.round(ms[i] * 1000) / 1000.0);
        }
        b.append("]}");
        calls = 0;
        rows = 0;
        if (ms.length > 1024) ms = new double[1024];
        return b.toString();
    }
}
