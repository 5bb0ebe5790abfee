// The authenticator's answer as the browser sends it: the WebAuthn JSON serialisation of a credential
// (RegistrationResponseJSON after navigator.credentials.create(), AuthenticationResponseJSON after .get()).
// A ceremony parses what arrived with these schemas before verifying it, so the verifier only ever sees a
// value of its own type; a malformed answer fails the ceremony like a wrong one (and is counted as one).
import { Ajv } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';

const BASE64URL = { type: 'string' } as const;

/** The extension outputs roomguard could meet (it asks for none); others are dropped, not refused. */
const CLIENT_EXTENSION_RESULTS = {
  type: 'object',
  properties: {
    appid: { type: 'boolean' },
    credProps: { type: 'object', properties: { rk: { type: 'boolean' } }, additionalProperties: false },
    hmacCreateSecret: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

const CREDENTIAL = {
  id: BASE64URL,
  rawId: BASE64URL,
  authenticatorAttachment: { enum: ['platform', 'cross-platform'] },
  clientExtensionResults: CLIENT_EXTENSION_RESULTS,
  type: { const: 'public-key' },
} as const;

const REQUIRED = ['id', 'rawId', 'response', 'clientExtensionResults', 'type'] as const;

export const REGISTRATION_RESPONSE = {
  type: 'object',
  required: REQUIRED,
  properties: {
    ...CREDENTIAL,
    response: {
      type: 'object',
      required: ['clientDataJSON', 'attestationObject'],
      properties: {
        clientDataJSON: BASE64URL,
        attestationObject: BASE64URL,
        authenticatorData: BASE64URL,
        transports: { type: 'array', items: { type: 'string' } },
        publicKeyAlgorithm: { type: 'number' },
        publicKey: BASE64URL,
      },
    },
  },
} as const;

export const AUTHENTICATION_RESPONSE = {
  type: 'object',
  required: REQUIRED,
  properties: {
    ...CREDENTIAL,
    response: {
      type: 'object',
      required: ['clientDataJSON', 'authenticatorData', 'signature'],
      properties: { clientDataJSON: BASE64URL, authenticatorData: BASE64URL, signature: BASE64URL, userHandle: BASE64URL },
    },
  },
} as const;

export type RegistrationResponse = FromSchema<typeof REGISTRATION_RESPONSE>;
export type AuthenticationResponse = FromSchema<typeof AUTHENTICATION_RESPONSE>;

// Checks only, never converts: a number is not a string here (as in the gateway's route schemas).
const ajv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: true, useDefaults: false });

export const isRegistrationResponse = ajv.compile<RegistrationResponse>(REGISTRATION_RESPONSE);
export const isAuthenticationResponse = ajv.compile<AuthenticationResponse>(AUTHENTICATION_RESPONSE);

/** The credential id an answer names, if it names one (read before the answer is parsed, to find the factor). */
export function credentialIdOf(response: unknown): string | undefined {
  return typeof response === 'object' && response !== null && 'id' in response && typeof response.id === 'string' ? response.id : undefined;
}
