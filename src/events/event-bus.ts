import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { EventMap, EventName } from './event-map';

/** Typed front of the event emitter, so names and payloads cannot drift. */
@Injectable()
export class EventBus {
  constructor(private readonly emitter: EventEmitter2) {}

  /** Fire and forget. */
  emit<K extends EventName>(name: K, payload: EventMap[K]): void {
    this.emitter.emit(name, payload);
  }

  /** Resolves once every listener has finished (used where persisting must precede a reply). */
  async emitAndWait<K extends EventName>(name: K, payload: EventMap[K]): Promise<void> {
    await this.emitter.emitAsync(name, payload);
  }
}
