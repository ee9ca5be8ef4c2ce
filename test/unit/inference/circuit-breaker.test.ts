import { strict as assert } from 'node:assert';
import { CircuitBreaker, type CircuitState } from '../../../src/inference/circuit-breaker';

describe('inference: the circuit breaker of registry calls', () => {
  it('opens after the threshold of failures in a row, fails fast while open, lets one trial through, and closes on success', async () => {
    let now = 0;
    const states: CircuitState[] = [];
    const breaker = new CircuitBreaker({ name: 'registry', failureThreshold: 2, openMs: 1_000, clock: () => now, onStateChange: (s) => states.push(s) });
    let calls = 0;
    const fail = (): Promise<never> => {
      calls++;
      return Promise.reject(new Error('down'));
    };
    const ok = (): Promise<string> => {
      calls++;
      return Promise.resolve('up');
    };

    await assert.rejects(breaker.run(fail), /down/);
    assert.equal(breaker.state, 'closed', 'one failure is not enough');
    assert.equal(await breaker.run(ok), 'up', 'a success resets the count');
    await assert.rejects(breaker.run(fail), /down/);
    await assert.rejects(breaker.run(fail), /down/);
    assert.equal(breaker.state, 'open');
    const before = calls;
    await assert.rejects(breaker.run(ok), { code: 'SA_ERR_MODEL_REGISTRY_UNAVAILABLE', message: /circuit open after 2 failures in a row/ });
    assert.equal(calls, before, 'an open circuit does not call');

    now += 1_000;
    assert.equal(breaker.state, 'half-open');
    await assert.rejects(breaker.run(fail), /down/);
    assert.equal(breaker.state, 'open', 'a failed trial opens it again');
    now += 1_000;
    assert.equal(await breaker.run(ok), 'up');
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(states, ['open', 'half-open', 'open', 'half-open', 'closed']);
  });
});
