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

/**
 * The checks whose refusal a malformed field of that name gets instead of the generic RG_REQUEST_INVALID,
 * so a value sent twice (a list) is refused exactly as a wrong single value is. A route names the fields
 * that mean this there: the audit page's `room` filter, say, is no room name.
 */
const FIELD_CHECKS = {
  returnTo: 'RG_RETURN_TO_INVALID',
  room: 'RG_ROOM_INVALID',
  csrf: 'RG_CSRF',
} as const satisfies Record<string, ErrorCode>;

export type FieldCheck = keyof typeof FIELD_CHECKS;

/** A route's schemas together with the types they give its input (worked out once, where they are declared). */
export interface RouteInput<Q, B, P> {
  readonly schema: FastifySchema;
  readonly checked: readonly FieldCheck[];
  /** Never set: carries the input types from the schemas to the handler. */
  readonly types?: Input<Q, B, P>;
}

/**
 * Declares a route's input: `routeInput({ body: { type: 'object', properties: … } }, ['returnTo', 'csrf'])`,
 * the second argument naming the fields whose malformed value gets the refusal of that field's check.
 */
export function routeInput<const S extends InputSchemas>(schema: S, checked: readonly FieldCheck[] = []): RouteInput<Part<S, 'querystring'>, Part<S, 'body'>, Part<S, 'params'>> {
  return { schema, checked };
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
    schemaErrorFormatter: (errors, part) => refusalOfInvalidInput(errors, part, input.checked),
    ...(input.schema.body ? { preValidation: emptyFormWhenNoBody } : {}),
    handler,
  });
}

function emptyFormWhenNoBody(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  request.body ??= {};
  done();
}

/**
 * Turns the first schema violation (fastify stops at the first: see its allErrors note) into the
 * catalogue error the gateway's error handler renders as the refusal page, or JSON for a JSON call.
 */
function refusalOfInvalidInput(errors: FastifySchemaValidationError[], part: string, checked: readonly FieldCheck[]): Error {
  const first = errors[0];
  const field = first ? fieldOf(first) : undefined;
  const check = checked.find((name) => name === field);
  const detail = `${part}${first ? `${first.instancePath} ${first.message ?? first.keyword}` : ' invalid'}`.slice(0, 200);
  return new RoomguardError(check ? FIELD_CHECKS[check] : 'RG_REQUEST_INVALID', detail);
}

/** The top-level field a violation is about: the first step of its path, or the property found missing. */
function fieldOf(error: FastifySchemaValidationError): string | undefined {
  const step = error.instancePath.split('/')[1];
  if (step) return step.replace(/~1/g, '/').replace(/~0/g, '~');
  const missing = error.params.missingProperty;
  return typeof missing === 'string' ? missing : undefined;
}
