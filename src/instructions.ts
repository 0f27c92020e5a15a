/** Server instructions: sent at initialize, read by the assistant to decide when to use which tool. */
export const SERVER_INSTRUCTIONS = `ezrouter-mcp connects you to ezrouter, an LLM gateway serving many models (Claude, GPT, DeepSeek, GLM, Kimi, Gemini…) behind one API key.

When to use which tool:
- complete: ask another model something and get its whole answer (with token usage). Use it for a second opinion, to delegate a self-contained sub-task, or to compare models. Give "prompt" for one message or "messages" for a conversation, and a "model" id.
- list_models: find exact model ids (filter with "query", e.g. "claude"). Call it before complete when you are unsure of an id; ids change between deploys, so never guess from memory.
- get_balance: the account's remaining balance; use it when asked about credit, or after an insufficient_balance error.

Resources: ezrouter://models (the catalog) and ezrouter://models/{id} (one model and the surface complete would use).

Errors are tool results with a stable code in _meta.error.code and a sentence saying what to do. Retry only when _meta.error.retryable is true (rate_limited, upstream_error, timeout, network_error, stream_interrupted); for model_unavailable pick one of the suggested ids; for invalid_api_key, missing_api_key or insufficient_balance tell the user, since only they can fix it.`;
