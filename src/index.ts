/** coordkit's public API: define a primitive as a Protocol, then explore, walk or check it. */
export type {
  CheckConfig,
  ClientGenerator,
  FaultName,
  GhostNote,
  InFlight,
  NetworkName,
  NodeId,
  NodeInput,
  NodeStep,
  NodeView,
  NoteEmit,
  ParamSpec,
  Property,
  Protocol,
  ProtocolConfig,
  SendEmit,
  SessionSpec,
  StepOutput,
  Variant,
  WorldView,
} from './protocol.js';
export { explore, SEARCH_ORDERS, type ExploreOptions, type ExploreResult, type SearchOrder } from './check/explore.js';
export { exploreParallel, type ParallelOptions } from './check/explore-parallel.js';
export { walk, type WalkOptions, type WalkResult } from './check/walk.js';
export { createModel, type Model } from './check/model.js';
export { runChecks, type CheckReport } from './check/run-checks.js';
export { checkProtocol, type ProtocolVerdict } from './check/check-protocol.js';
export type { Violation } from './check/violation.js';
export { verdict, type PropertyVerdict, type Verdict } from './check/verdict.js';
export { describeRun } from './check/describe-run.js';
export { sequenceDiagram } from './trace/sequence-diagram.js';
export { notesOf } from './notes-of.js';
export { stepProperty, STEP_BROKEN } from './step-property.js';
export { majority } from './quorum.js';
export { isCounter, MAX_COUNTER, MAX_NODES, MAX_TOKEN, type Counter, type Token } from './bounds.js';
