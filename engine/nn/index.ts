export { Module, Container, convToTorch, convFromTorch, stateDict, loadStateDict, expectedShapes, StateDictError } from './module.ts';
export type { StateEntry, Layout } from './module.ts';
export { Conv2d, BatchNorm2d, Linear } from './layers.ts';
export type { Conv2dConfig } from './layers.ts';
export { SGD } from './sgd.ts';
export type { SgdOptions } from './sgd.ts';
