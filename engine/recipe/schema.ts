import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import schema from './recipe.schema.json' with { type: 'json' };
import type { Recipe } from './recipe.types.gen.js';

/** The compiled recipe schema: every error reported (allErrors), steps discriminated by `kind`. */
export const recipeSchema = schema;

/** The schema's app-id rule (/properties/id/pattern): ids name folders under ORCHARD_HOME/apps. The one copy of it. */
export const APP_ID_PATTERN = new RegExp(schema.properties.id.pattern);
export const isAppId = (id: string): boolean => APP_ID_PATTERN.test(id);

let compiled: ValidateFunction<Recipe> | undefined;
export function schemaValidator(): ValidateFunction<Recipe> {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, discriminator: true, strict: true, allowUnionTypes: true });
    compiled = ajv.compile<Recipe>(schema);
  }
  return compiled;
}
