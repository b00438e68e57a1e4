import { ImageDecodeError } from '@sie/errors';
import sharp from 'sharp';
import type { PixelImage } from '../preprocess/letterbox.js';

/**
 * Decodes an encoded image (JPEG, PNG, WebP, …) to packed RGB pixels, applying its EXIF
 * orientation as OpenCV's imread does. Anything sharp cannot read is an ImageDecodeError.
 */
export async function decodeImage(data: Uint8Array, maxPixels: number): Promise<PixelImage> {
  if (data.byteLength === 0) throw new ImageDecodeError('image is empty');
  try {
    const { data: pixels, info } = await sharp(data, { limitInputPixels: maxPixels })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new Error(`decoded to ${info.channels} channels, expected 3`);
    }
    return { data: pixels, width: info.width, height: info.height, order: 'rgb' };
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new ImageDecodeError(`cannot decode image (${data.byteLength} bytes): ${why}`, { cause });
  }
}
