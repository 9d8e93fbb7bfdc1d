import { Global, Injectable, Module, type DynamicModule } from '@nestjs/common';
import {
  getConnectionToken,
  InjectConnection,
  MongooseModule,
  type MongooseModuleOptions,
} from '@nestjs/mongoose';
import type { Connection, Model } from 'mongoose';

/** The mongoose connection name of the read pool (decisions.md §45). */
export const READ_CONNECTION = 'reads';

/** Connections of the read pool when the application's URI asks for one connection. */
export const READ_POOL_SIZE = 4;

const SINGLE_CONNECTION = /(^|&)maxPoolSize=1(?=&|$)/i;

/**
 * The URI of a separate read pool, or undefined when reads can share the application's pool.
 * A URI limited to one connection (`maxPoolSize=1`: the embedded FerretDB, decisions.md §5)
 * keeps that connection for every write and gets a pool of READ_POOL_SIZE for reads; any other
 * URI (MongoDB) already has a normal pool.
 */
export function readPoolUri(uri: string, size = READ_POOL_SIZE): string | undefined {
  const q = uri.indexOf('?');
  if (q < 0 || !SINGLE_CONNECTION.test(uri.slice(q + 1))) return undefined;
  return uri.slice(0, q + 1) + uri.slice(q + 1).replace(SINGLE_CONNECTION, `$1maxPoolSize=${size}`);
}

// The driver's command monitoring, forwarded so that one listener on the application's client
// (round-trip counts in benches and tests, the query-shape recorder) sees every command.
const MONITORING_EVENTS = ['commandStarted', 'commandSucceeded', 'commandFailed'] as const;

/**
 * Models for reads that cannot race a conditional update (and for plain inserts, forInserts): a
 * read of committed state whose result no update of the same request is conditioned on beyond
 * what the update itself checks. On the embedded FerretDB they run on the read pool, beside the
 * single connection every other write uses (FerretDB 1.24 loses conditional updates across
 * connections, not reads); on MongoDB the read pool is the application's own pool.
 */
@Injectable()
export class ReadModels {
  constructor(
    @InjectConnection() private readonly main: Connection,
    @InjectConnection(READ_CONNECTION) private readonly reads: Connection,
  ) {
    if (reads !== main) {
      const target = main.getClient();
      for (const event of MONITORING_EVENTS) {
        reads.getClient().on(event, (e: unknown) => target.emit(event, e as never));
      }
    }
  }

  /** `model` on the read pool: same schema, same collection. */
  of<T>(model: Model<T>): Model<T> {
    if (this.reads === this.main) return model;
    const existing = this.reads.models[model.modelName] as Model<T> | undefined;
    return (
      existing ??
      this.reads.model<T>(model.modelName, model.schema, model.collection.collectionName)
    );
  }

  /**
   * `model` for inserts of new documents: on the embedded FerretDB they go through the read pool
   * too, off the single write connection (decisions.md §57). An insert reads nothing a racing
   * write could change (FerretDB 1.24 loses only its read-then-write updates across connections),
   * and PostgreSQL enforces unique indexes across connections, so a duplicate still fails with
   * E11000. The caller awaits the insert as before: a write that must follow it (the queue
   * marker's settle, §16) is issued after it committed, whichever connection carried it.
   * Upserts are updates and stay on the write connection.
   */
  forInserts<T>(model: Model<T>): Model<T> {
    return this.of(model);
  }

  /** True when reads run on connections of their own. */
  get separate(): boolean {
    return this.reads !== this.main;
  }
}

/**
 * Provides ReadModels and the READ_CONNECTION connection: a pool of its own when
 * readPoolUri(uri) names one, otherwise the application's connection under that name.
 */
@Global()
@Module({})
export class ReadPoolModule {
  static forRoot(uri: string, options: MongooseModuleOptions = {}): DynamicModule {
    const readUri = readPoolUri(uri);
    if (!readUri) {
      return {
        module: ReadPoolModule,
        providers: [
          {
            provide: getConnectionToken(READ_CONNECTION),
            useFactory: (main: Connection) => main,
            inject: [getConnectionToken()],
          },
          ReadModels,
        ],
        exports: [ReadModels, getConnectionToken(READ_CONNECTION)],
      };
    }
    return {
      module: ReadPoolModule,
      imports: [
        MongooseModule.forRoot(readUri, {
          ...options,
          connectionName: READ_CONNECTION,
          // The application's connection builds indexes and collections; this one only reads.
          autoIndex: false,
          autoCreate: false,
        }),
      ],
      providers: [ReadModels],
      exports: [ReadModels],
    };
  }
}
