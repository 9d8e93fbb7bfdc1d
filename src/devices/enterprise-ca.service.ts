import { Inject, Injectable, Logger } from '@nestjs/common';
import { assertFound } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { createEnterpriseCa, openPrivateKey, pemToDer, sealPrivateKey } from '../pki';
import { WinEnterprise } from './devices.types';
import { WinEnterprisesRepository } from './win-enterprises.repository';

/** What issuing a device certificate needs; held only for the duration of one enrollment. */
export interface CaSigningMaterial {
  certificatePem: string;
  certificateDer: Buffer;
  privateKeyPkcs8Pem: string;
}

/** CA certificates never change once set, so a bounded in-process cache needs no invalidation. */
const CA_CACHE_MAX = 10_000;

/**
 * Each Windows enterprise's device CA (issue 4 §1): created with the enterprise, or on first use
 * for enterprises created before enrollment existed. The private key is sealed with MASTER_KEY,
 * bound to the enterprise id, and opened only to sign.
 */
@Injectable()
export class EnterpriseCaService {
  private readonly logger = new Logger('EnterpriseCa');
  private readonly caPems = new Map<string, string>();
  /** One CA generation per enterprise per process at a time (it costs ~0.2-0.5 s of CPU). */
  private readonly creating = new Map<string, Promise<WinEnterprise>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly enterprises: WinEnterprisesRepository,
  ) {}

  ensureCa(enterprise: WinEnterprise, now = new Date()): Promise<WinEnterprise> {
    if (enterprise.ca) return Promise.resolve(enterprise);
    let pending = this.creating.get(enterprise.id);
    if (!pending) {
      pending = this.create(enterprise, now).finally(() => this.creating.delete(enterprise.id));
      this.creating.set(enterprise.id, pending);
    }
    return pending;
  }

  private async create(enterprise: WinEnterprise, now: Date): Promise<WinEnterprise> {
    const ca = await createEnterpriseCa({
      // The id keeps issuer names distinct across tenants; the name is informational.
      commonName: `mullion device CA ${enterprise.id}`,
      organization: enterprise.name.slice(0, 64),
      now,
      keyBits: this.config.enrollment.caKeyBits,
    });
    const sealedPrivateKey = sealPrivateKey(ca.privateKeyPkcs8Pem, this.masterKey(), enterprise.id);
    const stored = await this.enterprises.setCaIfAbsent(enterprise.id, {
      certificatePem: ca.certificatePem,
      thumbprint: ca.thumbprint,
      serialNumber: ca.serialNumber,
      notBefore: ca.notBefore,
      notAfter: ca.notAfter,
      sealedPrivateKey,
    });
    if (stored) {
      this.logger.log(
        `Created the device CA of enterprise ${enterprise.id} (thumbprint ${ca.thumbprint})`,
      );
      return stored;
    }
    // Another instance stored its CA first: use that one.
    return assertFound(await this.enterprises.findById(enterprise.id), 'Enterprise');
  }

  /** The CA certificate (PEM), cached; null if the enterprise is gone or has no CA yet. */
  async caCertificatePem(enterpriseId: string): Promise<string | null> {
    const cached = this.caPems.get(enterpriseId);
    if (cached) return cached;
    const enterprise = await this.enterprises.findById(enterpriseId);
    if (!enterprise?.ca) return null;
    if (this.caPems.size >= CA_CACHE_MAX) this.caPems.clear();
    this.caPems.set(enterpriseId, enterprise.ca.certificatePem);
    return enterprise.ca.certificatePem;
  }

  async signingMaterial(enterprise: WinEnterprise): Promise<CaSigningMaterial> {
    const withCa = await this.ensureCa(enterprise);
    const ca = assertFound(withCa.ca, 'Enterprise');
    const sealed = assertFound(await this.enterprises.findSealedCaKey(enterprise.id), 'Enterprise');
    return {
      certificatePem: ca.certificatePem,
      certificateDer: pemToDer(ca.certificatePem, 'CERTIFICATE'),
      privateKeyPkcs8Pem: openPrivateKey(sealed, this.masterKey(), enterprise.id),
    };
  }

  private masterKey(): Buffer {
    return this.config.enrollment.masterKey.reveal();
  }
}
