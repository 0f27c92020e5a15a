/** The surface readers by surface name: where a third surface is added. */
import { anthropicReader } from './anthropic.js';
import { openAIReader } from './openai.js';
import type { SurfaceReader } from './surface-reader.js';
import type { Surface } from './types.js';

const READERS: Readonly<Record<Surface, SurfaceReader>> = { openai: openAIReader, anthropic: anthropicReader };

export function surfaceReader(surface: Surface): SurfaceReader {
  return READERS[surface];
}
