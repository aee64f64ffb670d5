import type { RuleFactory } from '../facts.js';
import { comfyuiRule } from './comfyui.js';
import { llamaCppRule } from './llama-cpp.js';
import { mlxRule } from './mlx.js';
import { ollamaRule } from './ollama.js';
import { pytorchRule } from './pytorch.js';
import { sdCppRule } from './sd-cpp.js';

/** Every family's rule. All run on every line: one log may mix families (Ollama embeds llama.cpp). */
export const ruleFactories: readonly RuleFactory[] = [llamaCppRule, ollamaRule, pytorchRule, comfyuiRule, sdCppRule, mlxRule];
