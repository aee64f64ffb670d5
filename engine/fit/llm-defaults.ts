/**
 * Defaults shared by the LLM service and the fit prediction, kept apart from the service code so
 * that `orchard fit` and the installer's fit gate do not load node-llama-cpp (about half a second).
 */
/** Context used when neither the recipe nor the user chose one (never "the model's max"). */
export const DEFAULT_CONTEXT = 4096;
