/**
 * Bounded robustness fuzzing of the server: random bytes, random but well-typed messages,
 * truncated messages, and clients that vanish mid-stream. The server must answer with
 * spec-correct gRPC codes (never INTERNAL), and keep serving.
 */
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codecs,
  insert,
  P4RuntimeClient,
  P4RUNTIME_API_VERSION,
  UpdateType,
  type Entity,
  type FieldMatch,
  type StreamMessageRequest,
  type WriteRequest,
} from '../../p4runtime';
import { primaryWithPipeline, startRig, type Rig } from './helpers';

const METHODS = [
  'Write',
  'Read',
  'SetForwardingPipelineConfig',
  'GetForwardingPipelineConfig',
  'Capabilities',
];
const ACCEPTABLE = new Set<number>([
  grpc.status.OK,
  grpc.status.UNKNOWN, // a Write whose updates failed, with per-update details
  grpc.status.INVALID_ARGUMENT,
  grpc.status.NOT_FOUND,
  grpc.status.ALREADY_EXISTS,
  grpc.status.PERMISSION_DENIED,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.UNIMPLEMENTED,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.OUT_OF_RANGE,
]);

let rig: Rig;
let primary: P4RuntimeClient;
let raw: grpc.Client;
beforeAll(async () => {
  rig = await startRig();
  primary = await primaryWithPipeline(rig, { electionId: 100 });
  raw = new grpc.Client(rig.server.address, grpc.credentials.createInsecure());
});
afterAll(async () => {
  raw.close();
  await rig.stop();
});

const id = (b: Buffer): Buffer => b;

function unaryRaw(method: string, body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    raw.makeUnaryRequest(
      `/p4.v1.P4Runtime/${method}`,
      id,
      id,
      body,
      new grpc.Metadata(),
      { deadline: Date.now() + 5000 },
      (err) => resolve(err ? err.code : grpc.status.OK),
    );
  });
}

function readRaw(body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const call = raw.makeServerStreamRequest('/p4.v1.P4Runtime/Read', id, id, body, new grpc.Metadata(), {});
    call.on('data', () => undefined);
    call.on('error', (e: grpc.ServiceError) => resolve(e.code));
    call.on('end', () => resolve(grpc.status.OK));
  });
}

async function serverAlive(): Promise<void> {
  expect((await primary.capabilities()).p4runtimeApiVersion).toBe(P4RUNTIME_API_VERSION);
}

const bytes = fc.uint8Array({ minLength: 0, maxLength: 20 }).map((u) => Buffer.from(u));
const fieldMatch: fc.Arbitrary<FieldMatch> = fc.oneof(
  fc.record({ fieldId: fc.integer({ min: 0, max: 4 }), exact: fc.record({ value: bytes }) }),
  fc.record({
    fieldId: fc.integer({ min: 0, max: 4 }),
    lpm: fc.record({ value: bytes, prefixLen: fc.integer({ min: -5, max: 200 }) }),
  }),
  fc.record({ fieldId: fc.integer({ min: 0, max: 4 }), ternary: fc.record({ value: bytes, mask: bytes }) }),
  fc.record({ fieldId: fc.integer({ min: 0, max: 4 }), range: fc.record({ low: bytes, high: bytes }) }),
  fc.record({ fieldId: fc.integer({ min: 0, max: 4 }), optional: fc.record({ value: bytes }) }),
);
const tableId = fc.constantFrom(0, 1, 33554433, 33554434, 33554435, 33554436, 33554437, 33554439, 0x7fffffff);
const actionId = fc.constantFrom(0, 16777217, 16777218, 16777219, 16777220, 16777221, 5);
const entity: fc.Arbitrary<Entity> = fc.oneof(
  fc.record(
    {
      tableEntry: fc.record(
        {
          tableId,
          match: fc.array(fieldMatch, { maxLength: 4 }),
          priority: fc.integer({ min: -2, max: 5 }),
          isDefaultAction: fc.boolean(),
          idleTimeoutNs: fc.integer({ min: -1, max: 1_000_000 }),
          action: fc.record({
            action: fc.record({
              actionId,
              params: fc.array(fc.record({ paramId: fc.integer({ min: 0, max: 3 }), value: bytes }), {
                maxLength: 3,
              }),
            }),
          }),
        },
        { requiredKeys: ['tableId'] },
      ),
    },
    { requiredKeys: [] },
  ),
  fc.record({
    counterEntry: fc.record({
      counterId: fc.constantFrom(0, 302120961, 9),
      index: fc.option(fc.record({ index: fc.integer({ min: -1, max: 20 }) }), { nil: null }),
    }),
  }),
  fc.record({
    meterEntry: fc.record({
      meterId: fc.constantFrom(0, 335544321, 9),
      config: fc.record({
        cir: fc.integer({ min: -1, max: 100 }),
        cburst: fc.nat(9),
        pir: fc.nat(100),
        pburst: fc.nat(9),
      }),
    }),
  }),
  fc.record({
    directCounterEntry: fc.record({
      tableEntry: fc.record({ tableId, match: fc.array(fieldMatch, { maxLength: 2 }) }),
    }),
  }),
  fc.record({ registerEntry: fc.record({ registerId: fc.nat(10) }) }),
  fc.constant({}),
);

describe('fuzz: the server answers bad input with spec codes and survives', () => {
  it('random bytes to every unary method and to Read', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...METHODS),
        fc.uint8Array({ maxLength: 64 }),
        async (method, body) => {
          const code =
            method === 'Read' ? await readRaw(Buffer.from(body)) : await unaryRaw(method, Buffer.from(body));
          expect(ACCEPTABLE.has(code), `${method} answered ${grpc.status[code]}`).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
    await serverAlive();
  });

  it('truncated messages are INVALID_ARGUMENT', async () => {
    const good = Buffer.from(
      codecs.WriteRequest.encode({
        deviceId: 1,
        electionId: { low: 100 },
        updates: [{ type: UpdateType.INSERT, entity: { tableEntry: { tableId: 33554433 } } }],
      }),
    );
    for (let cut = 1; cut < good.length; cut += 3) {
      const code = await unaryRaw('Write', good.subarray(0, cut));
      expect([
        grpc.status.INVALID_ARGUMENT,
        grpc.status.NOT_FOUND,
        grpc.status.PERMISSION_DENIED,
        grpc.status.UNKNOWN,
      ]).toContain(code);
    }
    expect(await unaryRaw('Write', good.subarray(0, good.length - 2))).toBe(grpc.status.INVALID_ARGUMENT);
    await serverAlive();
  });

  it('random well-typed write batches from the primary get per-update errors, never INTERNAL', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ type: fc.constantFrom(0, 1, 2, 3, 7), entity }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(0, 1, 2, 5),
        async (updates, atomicity) => {
          // Out-of-range update types and atomicity values are deliberate.
          const req = {
            deviceId: 1,
            electionId: { low: 100 },
            updates,
            atomicity,
          } as unknown as WriteRequest;
          const code = await new Promise<number>((resolve) =>
            raw.makeUnaryRequest(
              '/p4.v1.P4Runtime/Write',
              id,
              id,
              Buffer.from(codecs.WriteRequest.encode(req)),
              new grpc.Metadata(),
              {},
              (err) => resolve(err ? err.code : 0),
            ),
          );
          expect(ACCEPTABLE.has(code), `Write answered ${grpc.status[code]}`).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
    await serverAlive();
  });

  it('random well-typed reads never crash the server', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entity, { maxLength: 4 }), async (entities) => {
        const code = await readRaw(Buffer.from(codecs.ReadRequest.encode({ deviceId: 1, entities })));
        expect(ACCEPTABLE.has(code), `Read answered ${grpc.status[code]}`).toBe(true);
      }),
      { numRuns: 150 },
    );
    await serverAlive();
  });

  it('garbage, truncated and random stream messages end the stream or answer with a stream error', async () => {
    const messages: Buffer[] = [
      Buffer.from([0x0a, 0x05, 0x08]), // truncated arbitration
      Buffer.from([0xff, 0xff, 0xff]),
      Buffer.from(codecs.StreamMessageRequest.encode({ packet: { payload: Buffer.from('x') } })), // before arbitration
      Buffer.from(codecs.StreamMessageRequest.encode({ digestAck: { digestId: 1, listId: 2 } })),
      Buffer.from(codecs.StreamMessageRequest.encode({})),
      Buffer.from(
        codecs.StreamMessageRequest.encode({ other: { type_url: 'x/y', value: Buffer.from([1]) } }),
      ),
    ];
    for (const m of messages) {
      const outcome = await new Promise<string>((resolve) => {
        const call = raw.makeBidiStreamRequest('/p4.v1.P4Runtime/StreamChannel', id, (b: Buffer) =>
          codecs.StreamMessageResponse.decode(b),
        );
        call.on('data', (r: { error?: { canonicalCode?: number } | null }) => {
          if (r.error) {
            resolve(`stream-error:${r.error.canonicalCode}`);
            call.cancel();
          }
        });
        call.on('error', (e: grpc.ServiceError) => resolve(`status:${e.code}`));
        call.write(m);
      });
      expect(outcome).not.toBe(`status:${grpc.status.INTERNAL}`);
      expect(outcome).toMatch(/^(stream-error|status):/);
    }
    await serverAlive();
  });

  it('random stream messages after arbitration', async () => {
    const req: fc.Arbitrary<StreamMessageRequest> = fc.oneof(
      fc.record({
        packet: fc.record({
          payload: bytes,
          metadata: fc.array(fc.record({ metadataId: fc.nat(3), value: bytes }), { maxLength: 3 }),
        }),
      }),
      fc.record({ digestAck: fc.record({ digestId: fc.nat(5), listId: fc.nat(5) }) }),
      fc.record({
        arbitration: fc.record({
          deviceId: fc.constantFrom(1, 2),
          electionId: fc.record({ low: fc.nat(5) }),
        }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(req, { minLength: 1, maxLength: 6 }), async (msgs) => {
        const call = raw.makeBidiStreamRequest('/p4.v1.P4Runtime/StreamChannel', id, (b: Buffer) =>
          codecs.StreamMessageResponse.decode(b),
        );
        const done = new Promise<number>((resolve) => {
          call.on('error', (e: grpc.ServiceError) => resolve(e.code));
          call.on('end', () => resolve(0));
          call.on('data', () => undefined);
        });
        call.write(
          Buffer.from(
            codecs.StreamMessageRequest.encode({ arbitration: { deviceId: 1, electionId: { low: 7 } } }),
          ),
        );
        for (const m of msgs) call.write(Buffer.from(codecs.StreamMessageRequest.encode(m)));
        call.end();
        const code = await Promise.race([done, new Promise<number>((r) => setTimeout(() => r(-1), 2000))]);
        call.cancel();
        expect(code).not.toBe(grpc.status.INTERNAL);
      }),
      { numRuns: 40 },
    );
    await serverAlive();
  });

  it('clients that disconnect mid-read and mid-stream do not disturb the server', async () => {
    await primary.write(
      Array.from({ length: 3000 }, (_, i) =>
        insert(
          primary.entities.tableEntry({
            table: 'ipv4_lpm',
            match: { 'hdr.ipv4.dstAddr': `10.${i >> 8}.${i & 255}.0/24` },
            action: 'drop',
          }),
        ),
      ),
    );
    for (let i = 0; i < 10; i++) {
      const call = raw.makeServerStreamRequest(
        '/p4.v1.P4Runtime/Read',
        id,
        id,
        Buffer.from(codecs.ReadRequest.encode({ deviceId: 1, entities: [{ tableEntry: {} }] })),
        new grpc.Metadata(),
        {},
      );
      await new Promise<void>((resolve) => {
        call.once('data', () => {
          call.cancel();
          resolve();
        });
        call.on('error', () => resolve());
      });
    }
    // A competing controller vanishes abruptly while primary: nobody is promoted, and the old
    // primary takes over again with the highest id seen.
    const rival = rig.client({ electionId: 1000 });
    await rival.connect();
    expect(primary.isPrimary).toBe(false);
    rival.close();
    primary.setElectionId(1000);
    await primary.waitForPrimary(5000);
    await serverAlive();
    expect(rig.device.entryCount(33554433)).toBe(3000);
  });
});
