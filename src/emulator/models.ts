/** The model catalog served by GET /v1/models. */

/** One catalog entry, as the gateway lists it (minus the constant fields). */
export interface EmulatorModel {
  id: string;
  /** Internal upstream label (`vertex-ai`, `custom`), not the vendor. */
  owned_by: string;
  /** Surfaces accepting the model, e.g. `["anthropic","openai"]`. */
  supported_endpoint_types: string[];
}

/** The gateway's placeholder `created` value (not a date). */
export const MODEL_CREATED = 1626777600;

const entry = (id: string, owned_by: string, types: string[]): EmulatorModel => ({
  id,
  owned_by,
  supported_endpoint_types: [...types],
});

const ANTHROPIC_OPENAI = ['anthropic', 'openai'];
const OPENAI = ['openai'];

/** A catalog shaped like the documented one. Copied by the emulator, never mutated. */
export const DEFAULT_MODELS: EmulatorModel[] = [
  entry('claude-opus-4-7', 'vertex-ai', ANTHROPIC_OPENAI),
  entry('claude-sonnet-4-6', 'vertex-ai', ANTHROPIC_OPENAI),
  entry('claude-haiku-4-5', 'vertex-ai', ANTHROPIC_OPENAI),
  entry('gpt-5.2', 'custom', OPENAI),
  entry('gpt-5.2-mini', 'custom', OPENAI),
  entry('gpt-5.1', 'custom', OPENAI),
  entry('deepseek-v4-pro', 'custom', OPENAI),
  entry('deepseek-v4-flash', 'custom', OPENAI),
  entry('glm-5.1', 'custom', OPENAI),
  entry('kimi-k2.6', 'custom', OPENAI),
  entry('gemini-3-pro', 'vertex-ai', ['gemini', 'openai']),
];

/** Deep copy, so callers' later mutations do not leak into a running emulator. */
export function copyModels(models: readonly EmulatorModel[]): EmulatorModel[] {
  return models.map((m) => entry(m.id, m.owned_by, m.supported_endpoint_types));
}

/** The GET /v1/models body. */
export function modelsBody(models: readonly EmulatorModel[]): object {
  return {
    object: 'list',
    success: true,
    data: models.map((m) => ({
      id: m.id,
      object: 'model',
      created: MODEL_CREATED,
      owned_by: m.owned_by,
      supported_endpoint_types: [...m.supported_endpoint_types],
    })),
  };
}
