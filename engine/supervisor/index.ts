/** The supervisor's public surface, for the API, the CLI and the Electron shell. */
export type { AppState, AppStatus } from './app-status.js';
export type { GpuStats } from './ioreg.js';
export { parseIoregAccelerators } from './ioreg.js';
export type { ServiceLogLine } from './log-ring.js';
export { allocatePort } from '../core/port.js';
export { PORT_PLACEHOLDER, specFromPlannedService, withPort, type ServiceSpec, type SpecFromPlanOptions } from './service-spec.js';
export { Supervisor, type AppMetrics, type SupervisorEvents, type SupervisorOptions } from './supervisor.js';
export { LineSplitter } from './line-splitter.js';
export { liveRunRecord, runRecordDir, stopRecordedRun, type RunRecord } from './run-record.js';
