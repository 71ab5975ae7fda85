/**
 * @neurone/onnx: neurone models to ONNX (`toOnnx`, for ONNX Runtime and friends) and ONNX graphs
 * of the same layers, as `torch.onnx.export` writes them, back to a neurone `Sequential` (`fromOnnx`).
 */
export { toOnnx, onnxExporters, OnnxGraph } from './export';
export type { ToOnnxOptions, OnnxExporter } from './export';
export { fromOnnx, MAX_ONNX_BYTES } from './import';
export type { FromOnnxOptions } from './import';
