// The Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian integer, then the
// Avro body (what Confluent's and Apicurio's serializers write). One definition for decoding the
// input and encoding the outputs.

export const CONFLUENT_MAGIC_BYTE = 0;
export const CONFLUENT_HEADER_BYTES = 5;

/** `body` framed with `schemaId`. */
export function confluentFrame(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(CONFLUENT_HEADER_BYTES);
  header.writeUInt8(CONFLUENT_MAGIC_BYTE, 0);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

/** The schema id of a framed value; undefined when the value is not in the wire format. */
export function confluentSchemaId(value: Buffer): number | undefined {
  return value.length >= CONFLUENT_HEADER_BYTES && value[0] === CONFLUENT_MAGIC_BYTE ? value.readUInt32BE(1) : undefined;
}
