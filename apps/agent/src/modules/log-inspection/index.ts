export { FileTailer, type FileTailerOptions, type TailBatch, type TailedLine, type TailSource } from './file-tailer.ts';
export { JournaldReader, journalEntryToLine, journaldAvailability } from './journald-reader.ts';
export { LogInspectionError, LogInspectionModule, type LogInspectionModuleOptions } from './log-inspection-module.ts';
export { BUNDLED_LOG_RULES_DIR, LogInspectionSettingsSchema, parseLogInspectionSettings } from './log-inspection-settings.ts';
export { WatchedEngine } from './watched-engine.ts';
