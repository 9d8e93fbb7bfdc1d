import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { isDuplicateKey } from '../common/mongo/mongo-errors';
import { DeviceCertificateDoc } from './device-certificate.schema';

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
      if (!isDuplicateKey(e)) throw e;
      const owner = await this.model.findById(thumbprint).lean<DeviceCertificateDoc>().exec();
      if (owner?.winDeviceId !== winDeviceId) throw new CertificateInUseError(thumbprint);
    }
  }

  /** Releases the binding, only if it is still this device's. */
  async unbind(thumbprint: string, winDeviceId: string): Promise<void> {
    await this.model.deleteOne({ _id: thumbprint, winDeviceId }).exec();
  }
}
