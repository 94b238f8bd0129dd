/**
 * A field-for-field description of a set of P4Runtime protos: every message with its fields
 * (name, number, type, label, oneof, deprecated), every enum with its values, and the service's
 * methods. `fixtures/p4runtime-proto-fields.json` holds this description generated once from
 * the official p4lang/p4runtime protos; proto-fields.test.ts compares nfp's protos against it.
 *
 * Regenerate from a checkout of p4lang/p4runtime (its `proto/` folder):
 *   npx tsx test/p4runtime/proto-fields.ts <p4runtime> <commit> > test/p4runtime/fixtures/p4runtime-proto-fields.json
 *   npx prettier --write test/p4runtime/fixtures/p4runtime-proto-fields.json
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as protobuf from 'protobufjs';

export interface FieldFact {
  name: string;
  id: number;
  type: string;
  label: 'optional' | 'repeated' | 'map';
  oneof?: string;
  deprecated?: true;
}

export interface ProtoFacts {
  /** Where the facts came from (repository and commit), for the reader. */
  source?: string;
  /** The specification revision those protos belong to (`:revnumber:` of P4Runtime-Spec.adoc). */
  specRevision?: string;
  messages: Record<string, FieldFact[]>;
  enums: Record<string, Record<string, number>>;
  services: Record<
    string,
    { name: string; request: string; response: string; requestStream: boolean; responseStream: boolean }[]
  >;
}

/** The packages P4Runtime defines; google.* types are referenced, not described. */
const PACKAGES = ['p4.v1.', 'p4.config.v1.'];

function fullName(o: protobuf.ReflectionObject): string {
  return o.fullName.replace(/^\./, '');
}

function typeName(f: protobuf.Field): string {
  const rt = f.resolvedType;
  return rt ? fullName(rt) : f.type;
}

/** Describes every p4.v1 / p4.config.v1 type reachable from `root` (resolved). */
export function describeProtos(root: protobuf.Root): ProtoFacts {
  const out: ProtoFacts = { messages: {}, enums: {}, services: {} };
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const o of ns.nestedArray) {
      const name = fullName(o);
      const ours = PACKAGES.some((p) => name.startsWith(p));
      if (o instanceof protobuf.Type && ours) {
        out.messages[name] = o.fieldsArray
          .map((f): FieldFact => {
            const fact: FieldFact = {
              name: f.name,
              id: f.id,
              type: f instanceof protobuf.MapField ? `map<${f.keyType},${typeName(f)}>` : typeName(f),
              label: f instanceof protobuf.MapField ? 'map' : f.repeated ? 'repeated' : 'optional',
            };
            if (f.partOf) fact.oneof = f.partOf.name;
            if (f.options?.deprecated) fact.deprecated = true;
            return fact;
          })
          .sort((a, b) => a.id - b.id);
      } else if (o instanceof protobuf.Enum && ours) {
        out.enums[name] = Object.fromEntries(
          Object.entries(o.values).sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])),
        );
      } else if (o instanceof protobuf.Service && ours) {
        out.services[name] = o.methodsArray
          .map((m) => {
            m.resolve();
            return {
              name: m.name,
              request: fullName(m.resolvedRequestType!),
              response: fullName(m.resolvedResponseType!),
              requestStream: !!m.requestStream,
              responseStream: !!m.responseStream,
            };
          })
          .sort((a, b) => a.name.localeCompare(b.name));
      }
      if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) visit(o);
    }
  };
  visit(root);
  const sorted = <T>(r: Record<string, T>): Record<string, T> =>
    Object.fromEntries(
      Object.keys(r)
        .sort()
        .map((k) => [k, r[k]]),
    );
  return { messages: sorted(out.messages), enums: sorted(out.enums), services: sorted(out.services) };
}

/** Loads the four P4Runtime protos from `protoDir` (google.* from google-proto-files). */
export function loadProtoDir(protoDir: string): protobuf.Root {
  const google = join(require.resolve('google-proto-files/package.json'), '..');
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string =>
    target.startsWith('google/') ? join(google, target) : join(protoDir, target);
  // keepCase: the facts carry the .proto spelling (snake_case), not protobufjs' camelCase.
  root.loadSync(
    [
      'p4/v1/p4runtime.proto',
      'p4/v1/p4data.proto',
      'p4/config/v1/p4info.proto',
      'p4/config/v1/p4types.proto',
    ],
    { keepCase: true },
  );
  root.resolveAll();
  return root;
}

if (require.main === module) {
  const [checkout, commit] = process.argv.slice(2);
  if (!checkout) {
    console.error('usage: tsx test/p4runtime/proto-fields.ts <p4runtime checkout> [commit]');
    process.exit(2);
  }
  const spec = readFileSync(join(checkout, 'docs', 'v1', 'P4Runtime-Spec.adoc'), 'utf8');
  const specRevision = /^:revnumber:\s*(\S+)/m.exec(spec)?.[1];
  const facts = describeProtos(loadProtoDir(join(checkout, 'proto')));
  const source = `p4lang/p4runtime ${commit ?? ''}`.trim();
  process.stdout.write(`${JSON.stringify({ source, specRevision, ...facts }, null, 2)}\n`);
}
