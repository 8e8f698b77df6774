import type { aws_s3 as s3 } from 'aws-cdk-lib';
import {
  Duration,
  type Stack,
  aws_cloudfront as cloudfront,
  aws_cloudfront_origins as origins,
} from 'aws-cdk-lib';
import type { ShopFlowEnvironment } from './environments.ts';

/** CloudFront: originals from the bucket (origin access control), renditions from the app's /images. */
export function cdn(
  stack: Stack,
  productImages: s3.Bucket,
  env: ShopFlowEnvironment,
  logsBucket: s3.Bucket,
  /** The edge stack's web ACL (us-east-1), by a cross-region reference. */
  webAclArn: string,
): cloudfront.Distribution {
  const renditions = new cloudfront.CachePolicy(stack, 'RenditionCache', {
    comment:
      'ShopFlow /images: renditions are immutable (Cache-Control from the app), keyed by size and Accept',
    defaultTtl: Duration.days(1),
    maxTtl: Duration.days(365),
    minTtl: Duration.seconds(0),
    queryStringBehavior: cloudfront.CacheQueryStringBehavior.allowList('size'),
    headerBehavior: cloudfront.CacheHeaderBehavior.allowList('Accept'),
    enableAcceptEncodingBrotli: true,
    enableAcceptEncodingGzip: true,
  });
  const distribution = new cloudfront.Distribution(stack, 'Cdn', {
    comment: `ShopFlow ${env.name} product images`,
    defaultBehavior: {
      origin: origins.S3BucketOrigin.withOriginAccessControl(productImages),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
    },
    additionalBehaviors: {
      '/images/*': {
        // By the API's domain, the name its certificate is for: the load balancer's own
        // *.elb.amazonaws.com name fails CloudFront's certificate check (502). The domain's DNS
        // record points at the load balancer (stack output LoadBalancerDnsName).
        origin: new origins.HttpOrigin(env.apiDomain, {
          protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: renditions,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      },
    },
    webAclId: webAclArn,
    enableLogging: true,
    logBucket: logsBucket,
    logFilePrefix: 'cdn/',
    priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL,
  });
  return distribution;
}
