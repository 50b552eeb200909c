/** The sync health report: data from the database, as JSON or as one self-contained HTML page. */
export { loadReport, buildReport, reportWindow } from './data';
export type { ReportOptions, ReportSource, RunPoint, SegmentReport, SyncReport } from './data';
export { renderReportHtml } from './html';
export { alertsOf, adviceFor, DEFAULT_THRESHOLDS, thresholdsFrom, THRESHOLD_RANGES } from './alerts';
export type { AlertKind, HealthThresholds } from './alerts';
