"""Layer 1, the models: how a request reaches a model and its answer comes back.

`transport` is the one retry policy, deadline, rate limit and circuit breaker of every request;
the adapters (`openai_chat` over the openai SDK, `langchain_chat` over any LangChain chat
model, `batch` over the Batch API) turn a `ChatRequest` into a request and read the answer.
"""
