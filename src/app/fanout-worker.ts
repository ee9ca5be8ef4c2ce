/** The entry of a fan-out worker process, forked by the fan-out when STREAMING_WEBSOCKET__PROCESSES is above 1. */
import { fanoutWorkerMain } from './fanout';

fanoutWorkerMain();
