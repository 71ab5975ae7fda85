export { conformanceCases, runConformance, runConformanceCases } from './conformance';
export type { CaseOutcome, ConformanceCase, ConformanceOptions } from './conformance';
export { assertAllClose, randomTensor, referenceMatmul } from './reference';
export { gradcheck, gradcheckModule, gradcheckLoss, numericGradient, compareGradients } from './gradcheck';
export type { GradcheckOptions, GradcheckReport } from './gradcheck';
export { moduleCases, runModuleConformance, runModuleConformanceCases } from './modules';
export type { ModuleCase, ModuleLibrary, ModuleConformanceOptions } from './modules';
export { referenceKernels } from './reference-kernels';
