/**
 * The `$id` of a generated schema. Its own module, so that a node validating frames never
 * loads the generator (and TypeScript with it).
 */
export const schemaId = (name: string) => `urn:coordkit:schema:${name}`;
