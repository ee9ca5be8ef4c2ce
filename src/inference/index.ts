/**
 * `streaming-analytics/inference`: the inline inference operator and where its models
 * come from. `predict()` is a processor supplier for `KStream.process()`; a model is an
 * ONNX file with its metadata, fixed (`OnnxModel.load`) or served by a `ModelRegistry`
 * that swaps versions from a local directory or MLflow's Model Registry.
 */
export { predict, type ModelSource, type Prediction, type PredictOptions } from './predict';
export { OnnxModel, type SessionSettings, type LoadLimits } from './onnx-model';
export { ModelRegistry, localCatalogue, type ModelCatalogue, type ModelRegistryOptions, type ResolvedVersion } from './model-registry';
export { mlflowCatalogue, type MlflowCatalogueOptions } from './mlflow';
export { ModelCache, type ModelCacheOptions } from './model-cache';
export { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker';
export type { ModelMetadata, FeatureSpec } from './metadata';
export type { FeatureValues } from './features';
