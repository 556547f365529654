// The kernels' launchers: each takes tensors, checks their shapes, launches its WGSL kernels through the runtime
// and returns new tensors. They know nothing of autograd; engine/ops.ts builds the differentiable ops on them.
export * from './grid.ts';
export * from './shapes.ts';
export { binary, unary, filled, BINARY_OPS, UNARY_OPS, type BinaryOp, type UnaryOp } from './elementwise.ts';
export { sumKernel, sumToShape, expandTo, permuteKernel } from './reduce.ts';
export { matmulKernel, packVec4 } from './matmul.ts';
export * from './conv2d/index.ts';
export { channelSlice, channelPad, channelConcat, channelCopyInto } from './channels.ts';
export { batchNormForward, batchNormBackward, type BatchNormOptions, type BatchNormSaved } from './batchnorm.ts';
export { pool2dForward, pool2dBackward, type Pooling } from './pool2d.ts';
export { softmaxCrossEntropyKernel, softmaxKlKernel } from './losses.ts';
export { topkCorrect } from './metrics.ts';
export { sgdUpdate } from './sgd.ts';
export { FAMILIES, DEFAULT_ORDER, familyFor, withFamily, setFamilies, getFamilies, isFamily, type Family, type LadderPass } from './ladder/family.ts';
export { sumSlices } from './splitk.ts';
export { tileFor, tileKey, withTile, setTiles, getTiles, type Tile } from './tiles.ts';
