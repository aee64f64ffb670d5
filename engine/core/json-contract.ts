import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * Request bodies checked against a contract's JSON Schemas (one per `METHOD /path`), shared by
 * Orchard's three JSON APIs: the local API (engine/api/contract.ts), the LLM service's OpenAI API
 * (services/llm/contract.ts) and the diffusion job API (services/diffusion/contract.ts). Each API
 * answers a problem in its own error shape; this module only names it: the JSON pointer of the first
 * problem and a short message. Routes without a schema take any body.
 */
export interface ContractProblem {
  /** JSON pointer into the body ('' for the body itself). */
  pointer: string;
  message: string;
}

export type BodyCheck = (key: string, body: unknown) => ContractProblem | undefined;

/** A checker over `schemas` (keyed like `POST /v1/jobs`), each schema compiled on first use. */
export function contractChecker(schemas: Readonly<Record<string, object | undefined>>): BodyCheck {
  const ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true });
  const compiled = new Map<string, ValidateFunction>();
  return (key, body) => {
    const schema = schemas[key];
    if (!schema) return undefined;
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(schema);
      compiled.set(key, validate);
    }
    if (validate(body)) return undefined;
    const error = validate.errors?.[0];
    return { pointer: error ? pointerOf(error) : '', message: messageOf(error) };
  };
}

function pointerOf(e: ErrorObject): string {
  const params = e.params as { missingProperty?: string; additionalProperty?: string };
  const child = params.missingProperty ?? params.additionalProperty;
  return child === undefined ? e.instancePath : `${e.instancePath}/${child.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function messageOf(e: ErrorObject | undefined): string {
  if (!e) return 'does not match the contract';
  if (e.keyword === 'additionalProperties') return 'unknown field';
  if (e.keyword === 'required') return 'is required';
  return e.message ?? 'does not match the contract';
}
