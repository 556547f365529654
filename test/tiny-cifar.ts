// A CIFAR-10 binary folder of 40 images per batch (five training batches and the test batch), deterministic; with
// `touch`, one pixel of the third batch differs (other content under the same layout).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeTinyCifar(dir: string, touch = false): string {
  mkdirSync(dir, { recursive: true });
  for (const [i, name] of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch'].entries()) {
    const bytes = Buffer.alloc(40 * 3073);
    for (let j = 0; j < bytes.length; j++) bytes[j] = j % 3073 === 0 ? (j / 3073 + i) % 10 : (j * 7919 + i * 31) % 256;
    if (touch && i === 2) bytes[5] ^= 1;
    writeFileSync(join(dir, `${name}.bin`), bytes);
  }
  return dir;
}
