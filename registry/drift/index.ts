/** The drift engine: rules, payload validation, undocumented fields, the compiled catalog and the evaluation. */
export * from "./types.ts";
export { DRIFT_RULES, driftRuleById, type DriftRuleSpec } from "./rules.ts";
export { PayloadValidators, isJsonSchemaFormat, type PayloadCheck, type StoredSchema } from "./validate.ts";
export { undocumentedFields, type FieldLimits } from "./fields.ts";
export { compileDriftCatalog, CompiledDriftCatalog, observedDialect, parseObserved, type DriftChannel, type OtherChannel, type TopicMeeting } from "./catalog.ts";
export { evaluateObservedTopics, silentChannels, subjectKey, EVIDENCE_LIMITS, type EvaluateOptions, type SilentChannelsInput } from "./evaluate.ts";
