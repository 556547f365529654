export { Classifier } from './model.ts';
export type { ModelConfig, ModelOutput } from './model.ts';
export { createModel, checkArchitecture, canonicalName, ARCHITECTURES, UnknownArchitectureError } from './registry.ts';
export { PlainCNN, PLAIN_SPECS, PLAIN_DEPTHS } from './plain_cnn.ts';
export { ResNet, RESNET_DEPTHS } from './resnet.ts';
export { WideResNet } from './wrn.ts';
export { VGG, VGG_CFGS } from './vgg.ts';
