import { Injectable } from '@nestjs/common';
import { InjectModel, Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Model } from 'mongoose';

/**
 * One document per client-certificate thumbprint, `_id` = the thumbprint: a certificate opens
 * management sessions for exactly one device. A unique `_id` (not a unique index on an optional
 * device field) keeps this inside the portable Mongo subset.
 */
@Schema({ collection: 'device_certificates', versionKey: false })
export class DeviceCertificateDoc {
  @Prop({ type: String }) _id!: string;
  @Prop({ type: String, required: true }) winDeviceId!: string;
  @Prop({ type: String, required: true }) organizationId!: string;
  @Prop({ type: Date, required: true }) boundAt!: Date;
}
export const DeviceCertificateSchema = SchemaFactory.createForClass(DeviceCertificateDoc);

export class CertificateInUseError extends Error {}

@Injectable()
export class DeviceCertificatesRepository {
  constructor(
    @InjectModel(DeviceCertificateDoc.name) private readonly model: Model<DeviceCertificateDoc>,
  ) {}

  /** Binds `thumbprint` to the device; throws CertificateInUseError when another device has it. */
  async bind(thumbprint: string, winDeviceId: string, organizationId: string): Promise<void> {
    try {
      await this.model.create({
        _id: thumbprint,
        winDeviceId,
        organizationId,
        boundAt: new Date(),
      });
    } catch (e) {
      if ((e as { code?: number }).code !== 11000) throw e;
      const owner = await this.model.findById(thumbprint).lean<DeviceCertificateDoc>().exec();
      if (owner?.winDeviceId !== winDeviceId) throw new CertificateInUseError(thumbprint);
    }
  }

  /** Releases the binding, only if it is still this device's. */
  async unbind(thumbprint: string, winDeviceId: string): Promise<void> {
    await this.model.deleteOne({ _id: thumbprint, winDeviceId }).exec();
  }
}
