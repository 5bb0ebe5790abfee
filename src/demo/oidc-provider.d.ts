// Minimal ambient typings for `oidc-provider` v9 (the package ships no .d.ts and
// @types/oidc-provider is not a dependency). Only what src/demo/idp.ts uses is
// typed here; everything else is deliberately left out.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type UnknownObject = Record<string, unknown>;

  export interface OIDCContext {
    readonly route: string | undefined;
    readonly issuer: string;
    readonly session?: { accountId?: string; state?: UnknownObject } | undefined;
    readonly client?: { clientId: string; clientName?: string } | undefined;
    readonly params?: UnknownObject | undefined;
    urlFor(name: string, opt?: UnknownObject): string;
  }

  /** The subset of a Koa context the demo IdP touches. */
  export interface KoaContextWithOIDC {
    readonly oidc: OIDCContext | undefined;
    readonly method: string;
    readonly path: string;
    readonly host: string;
    status: number;
    type: string;
    body: unknown;
    set(field: string, value: string): void;
    remove(field: string): void;
  }

  export type ClaimsValue = string | number | boolean | readonly string[] | null | undefined;

  export interface Account {
    accountId: string;
    claims(
      use: 'id_token' | 'userinfo' | string,
      scope: string,
      claims: UnknownObject,
      rejected: string[],
    ): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    redirect_uris: string[];
    post_logout_redirect_uris?: string[];
    backchannel_logout_uri?: string;
    backchannel_logout_session_required?: boolean;
    grant_types?: string[];
    response_types?: string[];
    token_endpoint_auth_method?: string;
    id_token_signed_response_alg?: string;
    application_type?: 'web' | 'native';
    client_name?: string;
  }

  export interface JWKLike {
    kty: string;
    kid?: string;
    alg?: string;
    use?: string;
    [member: string]: unknown;
  }

  export interface ErrorOut {
    error: string;
    error_description?: string;
    [member: string]: unknown;
  }

  export interface Configuration {
    clients?: ClientMetadata[];
    clientDefaults?: Partial<ClientMetadata>;
    clientAuthMethods?: string[];
    claims?: Record<string, string[] | null>;
    scopes?: string[];
    conformIdTokenClaims?: boolean;
    responseTypes?: string[];
    pkce?: { required?: (ctx: KoaContextWithOIDC, client: unknown) => boolean };
    cookies?: {
      keys?: Array<string | Buffer>;
      names?: { session?: string; interaction?: string; resume?: string };
      long?: UnknownObject;
      short?: UnknownObject;
    };
    jwks?: { keys: JWKLike[] };
    findAccount?: (
      ctx: KoaContextWithOIDC,
      sub: string,
      token?: unknown,
    ) => Promise<Account | undefined> | Account | undefined;
    interactions?: {
      url?: (ctx: KoaContextWithOIDC, interaction: Interaction) => string | Promise<string>;
    };
    features?: {
      devInteractions?: { enabled: boolean };
      backchannelLogout?: { enabled: boolean };
      rpInitiatedLogout?: {
        enabled: boolean;
        logoutSource?: (ctx: KoaContextWithOIDC, form: string) => Promise<void> | void;
        postLogoutSuccessSource?: (ctx: KoaContextWithOIDC) => Promise<void> | void;
      };
      userinfo?: { enabled: boolean };
      [feature: string]: unknown;
    };
    ttl?: Record<string, number | ((...args: unknown[]) => number)>;
    renderError?: (ctx: KoaContextWithOIDC, out: ErrorOut, error: Error) => Promise<void> | void;
    clientBasedCORS?: (ctx: KoaContextWithOIDC, origin: string, client: unknown) => boolean;
    fetch?: (url: URL | string, options: RequestInit & { dispatcher?: unknown }) => Promise<Response>;
    [option: string]: unknown;
  }

  export interface PromptDetail {
    name: 'login' | 'consent' | string;
    reasons: string[];
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
      [detail: string]: unknown;
    };
  }

  export interface Interaction {
    readonly uid: string;
    readonly jti: string;
    readonly prompt: PromptDetail;
    readonly params: { client_id?: string; login_hint?: string; [param: string]: unknown };
    readonly session?: { accountId?: string; uid?: string; cookie?: string } | undefined;
    readonly grantId?: string | undefined;
    readonly returnTo: string;
    readonly lastSubmission?: UnknownObject | undefined;
  }

  export interface InteractionResults {
    login?: { accountId: string; acr?: string; amr?: string[]; remember?: boolean; ts?: number };
    consent?: { grantId?: string };
    error?: string;
    error_description?: string;
    [key: string]: unknown;
  }

  export class Grant {
    constructor(properties: { accountId: string; clientId: string });
    static find(id: string): Promise<Grant | undefined>;
    readonly jti: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(indicator: string, scope: string): void;
    save(ttl?: number): Promise<string>;
  }

  export type KoaMiddleware = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>;

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    silent: boolean;
    readonly Grant: typeof Grant;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    use(middleware: KoaMiddleware): this;
    on(event: string, listener: (...args: any[]) => void): this;
    urlFor(name: string, opt?: UnknownObject): string;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }

  export namespace errors {
    class OIDCProviderError extends Error {
      error: string;
      error_description?: string;
      status: number;
      statusCode: number;
      expose: boolean;
    }
    class SessionNotFound extends OIDCProviderError {}
  }

  export default Provider;
}
