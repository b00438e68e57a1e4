/** The part of a ts-proto `MessageFns<T>` the bus needs: binary encode and decode. */
export interface ProtoCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

export function encodeMessage<T>(codec: ProtoCodec<T>, message: T): Uint8Array {
  return codec.encode(message).finish();
}
