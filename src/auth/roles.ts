// The roles, with nothing imported, so the CLI names them in its help without loading the schemas.
export const roles = ['admin', 'marketer', 'agent', 'analyst'] as const;
export type Role = (typeof roles)[number];
