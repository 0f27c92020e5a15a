/** Server instructions: sent at initialize, read by the assistant to decide when to use which tool. Kept under 2,048 characters (Claude Code cuts longer ones). */
export const SERVER_INSTRUCTIONS = `Use these tools to ask other models (Claude, GPT, DeepSeek, GLM, Kimi, Gemini…) through the ezrouter gateway: take exact model ids from list_models, never from memory.

- complete: ask one model; get its whole answer with token usage. "prompt" for one message or "messages" for a conversation, plus "model". "files" sends text files from the open project to the model without passing them through your own context. For answers that may take minutes, pass background=true, then call complete with job_id to collect the answer.
- compare: the same input to 2–8 "models" at once, each blind to the others; one failing model does not fail the call.
- list_models: the live catalog (filter with "query", e.g. "claude").
- get_balance: the account's balance; use it when asked about credit, or after insufficient_balance.

An answer too long for this client ends with an [ezrouter-mcp: …] line naming an ezrouter://answers/… URI: read the rest with resources/read of that URI and ?offset=N. Notes in the same form say when an answer stopped at max_tokens.

Errors are tool results with a stable code in _meta.error.code and a sentence saying what to do. Retry only when _meta.error.retryable is true; for model_unavailable use a suggested id; for invalid_api_key, missing_api_key or insufficient_balance tell the user, since only they can fix it.`;
