// Route input: each of roomguard's own routes declares the JSON schema of its query, body and path
// parameters; fastify checks a request against it before the handler runs, and the handler receives the
// input typed by that same schema (json-schema-to-ts), so nothing reads request input through a cast.
// A request the schema refuses ends in roomguard's refusal page (or JSON) with the catalogue code the
// field's own check gives: a malformed returnTo is RG_RETURN_TO_INVALID at the edge as it is in a handler.
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, FastifySchemaValidationError } from 'fastify';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { RoomguardError, type ErrorCode } from '../errors.js';

/** What fastify checks before a handler runs. Fields a handler does not read are left alone (forms may carry more). */
export interface InputSchemas {
  querystring?: JSONSchema;
  body?: JSONSchema;
  params?: JSONSchema;
}

type Part<S extends InputSchemas, K extends keyof InputSchemas> = S[K] extends JSONSchema ? FromSchema<S[K]> : unknown;

/** The route generic fastify types a request by: the query, body and params the schemas describe. */
interface Input<Q, B, P> {
  Querystring: Q;
  Body: B;
  Params: P;
  Reply: unknown;
}

/** A route's schemas together with the types they give its input (worked out once, where they are declared). */
export interface RouteInput<Q, B, P> {
  readonly schema: FastifySchema;
  /** Never set: carries the input types from the schemas to the handler. */
  readonly types?: Input<Q, B, P>;
}

/** Declares a route's input: `routeInput({ body: { type: 'object', properties: … } })`. */
export function routeInput<const S extends InputSchemas>(schema: S): RouteInput<Part<S, 'querystring'>, Part<S, 'body'>, Part<S, 'params'>> {
  return { schema };
}

/** The request a handler gets once its input has passed the schemas: query, body and params of their types. */
export type ValidRequest<R> = R extends RouteInput<infer Q, infer B, infer P> ? FastifyRequest<Input<Q, B, P>> : never;

/**
 * Registers a route whose handler's input type comes from the very schema fastify validates, so the two
 * cannot drift apart. A POST without a body counts as an empty form (as every handler read it before).
 */
export function route<Q, B, P>(app: FastifyInstance, method: 'GET' | 'POST', url: string, input: RouteInput<Q, B, P>, handler: (request: FastifyRequest<Input<Q, B, P>>, reply: FastifyReply) => Promise<unknown>): void {
  app.route<Input<Q, B, P>>({
    method,
    url,
    schema: input.schema,
    ...(input.schema.body ? { preValidation: emptyFormWhenNoBody } : {}),
    handler,
  });
}

function emptyFormWhenNoBody(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  request.body ??= {};
  done();
}

/**
 * Fields whose malformed value gets the refusal of the field's own check rather than the generic
 * RG_REQUEST_INVALID, so a value sent twice (an array) is refused exactly as a wrong single value is.
 */
const FIELD_REFUSALS: Readonly<Record<string, ErrorCode>> = {
  returnTo: 'RG_RETURN_TO_INVALID',
  room: 'RG_ROOM_INVALID',
  csrf: 'RG_CSRF',
};

/**
 * fastify's `schemaErrorFormatter` for the whole gateway: turns the first schema violation (fastify stops
 * at the first, see its allErrors note) into the catalogue error the gateway's error handler renders.
 */
export function refusalOfInvalidInput(errors: FastifySchemaValidationError[], part: string): Error {
  const first = errors[0];
  const field = first ? fieldOf(first) : undefined;
  const code = field !== undefined && Object.hasOwn(FIELD_REFUSALS, field) ? FIELD_REFUSALS[field]! : 'RG_REQUEST_INVALID';
  return new RoomguardError(code, `${part}${first ? `${first.instancePath} ${first.message ?? first.keyword}` : ' invalid'}`.slice(0, 200));
}

/** The top-level field a violation is about: the first step of its path, or the property found missing. */
function fieldOf(error: FastifySchemaValidationError): string | undefined {
  const step = error.instancePath.split('/')[1];
  if (step) return step.replace(/~1/g, '/').replace(/~0/g, '~');
  const missing = error.params.missingProperty;
  return typeof missing === 'string' ? missing : undefined;
}
