import type { FastifyRequest } from 'fastify';

/** The dashboard's address as users reach it: PUBLIC_URL, else what this request came to (behind a proxy only with TRUST_PROXY). */
export function publicBase(request: Pick<FastifyRequest, 'protocol' | 'host'>, publicUrl: string | undefined): string {
  return (publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
}
