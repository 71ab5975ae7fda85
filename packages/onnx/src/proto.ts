import protobuf from 'protobufjs/light.js';

/**
 * The subset of ONNX's onnx.proto (proto2, IR version 7–10) that neurone reads and writes, as a
 * protobufjs JSON descriptor: field numbers and types as in onnx.proto; fields left out are
 * skipped when read (subgraphs, sparse tensors, functions, training info).
 */
const f = (id: number, type: string, rule?: 'repeated', packed?: boolean) => ({ id, type, ...(rule ? { rule } : {}), options: packed === undefined ? {} : { packed } });
const descriptor = {
  nested: {
    onnx: {
      nested: {
        ModelProto: { fields: { irVersion: f(1, 'int64'), opsetImport: f(8, 'OperatorSetIdProto', 'repeated'), producerName: f(2, 'string'), producerVersion: f(3, 'string'), domain: f(4, 'string'), modelVersion: f(5, 'int64'), docString: f(6, 'string'), graph: f(7, 'GraphProto') } },
        OperatorSetIdProto: { fields: { domain: f(1, 'string'), version: f(2, 'int64') } },
        GraphProto: { fields: { node: f(1, 'NodeProto', 'repeated'), name: f(2, 'string'), initializer: f(5, 'TensorProto', 'repeated'), sparseInitializer: f(15, 'bytes', 'repeated'), docString: f(10, 'string'), input: f(11, 'ValueInfoProto', 'repeated'), output: f(12, 'ValueInfoProto', 'repeated') } },
        NodeProto: { fields: { input: f(1, 'string', 'repeated'), output: f(2, 'string', 'repeated'), name: f(3, 'string'), opType: f(4, 'string'), domain: f(7, 'string'), attribute: f(5, 'AttributeProto', 'repeated'), docString: f(6, 'string') } },
        AttributeProto: { fields: { name: f(1, 'string'), type: f(20, 'int32'), f: f(2, 'float'), i: f(3, 'int64'), s: f(4, 'bytes'), t: f(5, 'TensorProto'), floats: f(7, 'float', 'repeated', false), ints: f(8, 'int64', 'repeated', false) } },
        ValueInfoProto: { fields: { name: f(1, 'string'), type: f(2, 'TypeProto'), docString: f(3, 'string') } },
        TypeProto: { fields: { tensorType: f(1, 'TensorTypeProto') } },
        TensorTypeProto: { fields: { elemType: f(1, 'int32'), shape: f(2, 'TensorShapeProto') } },
        TensorShapeProto: { fields: { dim: f(1, 'Dimension', 'repeated') } },
        Dimension: { oneofs: { value: { oneof: ['dimValue', 'dimParam'] } }, fields: { dimValue: f(1, 'int64'), dimParam: f(2, 'string') } },
        TensorProto: { fields: { dims: f(1, 'int64', 'repeated', false), dataType: f(2, 'int32'), floatData: f(4, 'float', 'repeated', true), int32Data: f(5, 'int32', 'repeated', true), int64Data: f(7, 'int64', 'repeated', true), name: f(8, 'string'), rawData: f(9, 'bytes'), doubleData: f(10, 'double', 'repeated', true), dataLocation: f(14, 'int32') } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
/** The ModelProto message type. */
export const ModelProto = root.lookupType('onnx.ModelProto');

/** ONNX TensorProto.DataType codes neurone uses. */
export const DataType = { FLOAT: 1, INT64: 7, DOUBLE: 11 } as const;
/** ONNX AttributeProto.AttributeType codes neurone uses. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** A TensorProto as plain values. */
export interface TensorMsg {
  name?: string;
  dims?: number[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  doubleData?: number[];
  int64Data?: number[];
  int32Data?: number[];
  dataLocation?: number;
}
/** An AttributeProto as plain values. */
export interface AttributeMsg {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMsg;
  floats?: number[];
  ints?: number[];
}
/** A NodeProto as plain values. */
export interface NodeMsg {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: AttributeMsg[];
  docString?: string;
}
/** A ValueInfoProto of a tensor as plain values (a dimension is a size or a symbolic name). */
export interface ValueInfoMsg {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: number; dimParam?: string }[] } } };
}
/** A GraphProto as plain values. */
export interface GraphMsg {
  name?: string;
  node?: NodeMsg[];
  initializer?: TensorMsg[];
  sparseInitializer?: Uint8Array[];
  input?: ValueInfoMsg[];
  output?: ValueInfoMsg[];
}
/** A ModelProto as plain values. */
export interface ModelMsg {
  irVersion?: number;
  opsetImport?: { domain?: string; version?: number }[];
  producerName?: string;
  producerVersion?: string;
  graph?: GraphMsg;
}

/** Encodes a model to ONNX bytes. */
export function encodeModel(model: ModelMsg): Uint8Array {
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Decodes ONNX bytes to plain values (int64 as numbers; throws protobufjs's errors on bad wire data). */
export function decodeModel(bytes: Uint8Array): ModelMsg {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, arrays: true }) as ModelMsg;
}
