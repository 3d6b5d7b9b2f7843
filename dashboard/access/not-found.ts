/**
 * The 404 messages for ids given in paths and filters. A thing outside a site-limited user's sites gets exactly
 * the message of a thing that does not exist, so the answer tells nothing about other sites.
 */
export const NOT_FOUND = {
  site: (id: string) => `There is no site "${id}". GET /api/sites lists them.`,
  zone: (id: string, site?: string) => `There is no zone "${id}"${site ? ` in site ${site}` : ''}. GET /api/sites lists them.`,
  device: (id: string) => `There is no device "${id}". GET /api/sites lists them.`,
  alert: (id: string) => `There is no active alert "${id}"; it may have cleared. GET /api/alerts?state=active lists them.`,
  share: (id: string) => `There is no share link "${id}". GET /api/shares lists them.`,
  display: (id: string) => `There is no display token "${id}". GET /api/displays lists them.`,
  user: (name: string) => `There is no user "${name}". GET /api/users lists them.`,
  animal: (tag: string) => `No animal or read with tag "${tag}". GET /api/animals?q= searches the register.`,
};
