import { SieError } from '@sie/errors';

/** Applying the schema migrations failed; the database is left at the last complete migration. */
export class MigrationError extends SieError {
  readonly code = 'migration_failed';
  constructor(
    message: string,
    readonly migrationsFolder: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override details(): Record<string, string> {
    return { migrationsFolder: this.migrationsFolder };
  }
}
