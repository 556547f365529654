// Convolution, one file per pass (as burn splits forward / backward-data / backward-weight): geometry.ts checks
// the sizes, choice.ts picks the kernel for each pass, rows.ts launches the row kernel that forward and input
// gradient share, forward.ts, input_grad.ts and weight_grad.ts run the passes. Grouped convolutions: passes.ts
// sends depthwise ones to depthwise.ts and other grouped ones to grouped.ts (a dense convolution per group).
export { convGeometry, type Conv2dOptions, type Geometry } from './geometry.ts';
export { usesRowKernel, usesWgradRows, wgradSplits } from './choice.ts';
export { conv2dForward, conv2dForwardGemm } from './forward.ts';
export { conv2dInputGrad, conv2dInputGradGemm } from './input_grad.ts';
export { conv2dWeightGrad, conv2dWeightGradRows, conv2dWeightGradGemm } from './weight_grad.ts';
export { depthwiseForward, depthwiseInputGrad, depthwiseWeightGrad, isDepthwise } from './depthwise.ts';
export { groupedForward, groupedInputGrad, groupedWeightGrad } from './grouped.ts';
export { convForward, convInputGrad, convWeightGrad, convKind, type ConvKind } from './passes.ts';
