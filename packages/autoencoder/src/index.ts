/**
 * @neurone/autoencoder: Autoencoder(encoder, decoder) as a Module with the seed's explicit
 * backward, a mirrored dense builder (optionally with tied weights), denoising corruption and
 * batched latent-space helpers.
 */
export { Autoencoder } from './autoencoder';
export type { DenseOptions, DenseActivation } from './autoencoder';
export { TiedLinear } from './tied';
export type { TiedLinearOptions } from './tied';
export { addNoise, checkNoise, denoising, reconstructionDataset } from './noise';
export type { NoiseSpec, DenoisingOptions, DenoisingDataset } from './noise';
export { encodeAll, reconstructAll, reconstructionError, pixelError } from './latent';
export type { BatchedOptions, PixelError, ReconstructionErrorOptions } from './latent';
export { inputWidth, outputWidth } from './sizes';
